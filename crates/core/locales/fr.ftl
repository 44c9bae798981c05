# connreq en français. Variables : voir en.ftl.

## Noms et dates

member-fallback = Membre { $id }
former-member = un ancien membre
date = { $day }/{ $month }/{ $year }

## Notifications dans l'application

notification-invitation-received = { $actor } souhaite entrer en relation avec vous.
notification-invitation-accepted = { $dated ->
    [yes] { $actor } a accepté votre invitation envoyée le { $date }.
   *[no] { $actor } a accepté votre invitation.
}
notification-invitation-declined = { $dated ->
    [yes] Votre demande de mise en relation avec { $actor } envoyée le { $date } a été retirée.
   *[no] Votre demande de mise en relation avec { $actor } a été retirée.
}
notification-invitation-withdrawn = { $dated ->
    [yes] { $actor } a retiré sa demande de mise en relation envoyée le { $date }.
   *[no] { $actor } a retiré sa demande de mise en relation.
}
notification-invitation-expired = { $dated ->
    [yes] Votre demande de mise en relation avec { $actor } envoyée le { $date } a expiré.
   *[no] Votre demande de mise en relation avec { $actor } a expiré.
}
label-note = Note
label-message = Message

## E-mails

subject-invitation-received = { $actor } souhaite entrer en relation avec vous
subject-invitation-accepted = { $actor } a accepté votre invitation
subject-invitation-declined = Votre demande de mise en relation a été retirée
subject-invitation-withdrawn = { $actor } a retiré une demande de mise en relation
subject-invitation-expired = Votre demande de mise en relation a expiré
subject-invitation-reminder = { $actor } attend votre réponse
subject-digest = { $count ->
    [one] 1 nouvelle notification
   *[other] { $count } nouvelles notifications
}
email-greeting = Bonjour { $name },
email-footer = Vos invitations vous attendent dans l'application.
reminder-text = { $actor } vous a invité à entrer en relation le { $date } et attend toujours votre réponse.
digest-intro = Voici ce qui s'est passé depuis votre dernier récapitulatif :
email-unsubscribe = Pour ne plus recevoir ces e-mails : { $url }
html-unsubscribe = Se désabonner
