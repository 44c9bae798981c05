# connreq auf Deutsch. Variablen: siehe en.ftl.

## Namen und Daten

member-fallback = Mitglied { $id }
former-member = ein ehemaliges Mitglied
date = { $day }.{ $month }.{ $year }

## Benachrichtigungen in der App

notification-invitation-received = { $actor } möchte sich mit Ihnen vernetzen.
notification-invitation-accepted = { $dated ->
    [yes] { $actor } hat Ihre am { $date } gesendete Kontaktanfrage angenommen.
   *[no] { $actor } hat Ihre Kontaktanfrage angenommen.
}
notification-invitation-declined = { $dated ->
    [yes] Ihre am { $date } gesendete Kontaktanfrage an { $actor } wurde zurückgezogen.
   *[no] Ihre Kontaktanfrage an { $actor } wurde zurückgezogen.
}
notification-invitation-withdrawn = { $dated ->
    [yes] { $actor } hat die am { $date } gesendete Kontaktanfrage zurückgezogen.
   *[no] { $actor } hat die Kontaktanfrage zurückgezogen.
}
notification-invitation-expired = { $dated ->
    [yes] Ihre am { $date } gesendete Kontaktanfrage an { $actor } ist abgelaufen.
   *[no] Ihre Kontaktanfrage an { $actor } ist abgelaufen.
}
label-note = Notiz
label-message = Nachricht

## E-Mails

subject-invitation-received = { $actor } möchte sich mit Ihnen vernetzen
subject-invitation-accepted = { $actor } hat Ihre Kontaktanfrage angenommen
subject-invitation-declined = Ihre Kontaktanfrage wurde zurückgezogen
subject-invitation-withdrawn = { $actor } hat eine Kontaktanfrage zurückgezogen
subject-invitation-expired = Ihre Kontaktanfrage ist abgelaufen
subject-invitation-reminder = { $actor } wartet auf Ihre Antwort
subject-digest = { $count ->
    [one] 1 neue Benachrichtigung
   *[other] { $count } neue Benachrichtigungen
}
email-greeting = Hallo { $name },
email-footer = Ihre Kontaktanfragen finden Sie in der App.
reminder-text = { $actor } hat Ihnen am { $date } eine Kontaktanfrage gesendet und wartet noch auf Ihre Antwort.
digest-intro = Das ist seit Ihrer letzten Zusammenfassung passiert:
email-unsubscribe = Diese E-Mails abbestellen: { $url }
html-unsubscribe = Abbestellen
