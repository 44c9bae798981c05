# connreq's texts in English. Each message is what a member reads; the
# variables in braces are filled in by connreq:
#   $actor  the other member's name (as they wrote it)
#   $name   the reader's own name
#   $date   a date, written by the message "date" below
#   $dated  "yes" when the request is older than a week (then $date is when
#           it was sent), "no" otherwise
#   $count  a number
#   $url    a link

## Names and dates

# How a member without a name is called.
member-fallback = Member { $id }
# How a member who had their data erased is called.
former-member = a former member
# $year, $month (01-12) and $day (01-31).
date = { $year }-{ $month }-{ $day }

## In-app notifications

notification-invitation-received = { $actor } wants to connect with you.
notification-invitation-accepted = { $dated ->
    [yes] { $actor } accepted your invitation to connect sent on { $date }.
   *[no] { $actor } accepted your invitation to connect.
}
notification-invitation-declined = { $dated ->
    [yes] Your connection request to { $actor } sent on { $date } was withdrawn.
   *[no] Your connection request to { $actor } was withdrawn.
}
notification-invitation-withdrawn = { $dated ->
    [yes] { $actor } withdrew the connection request sent on { $date }.
   *[no] { $actor } withdrew the connection request.
}
notification-invitation-expired = { $dated ->
    [yes] Your connection request to { $actor } sent on { $date } expired.
   *[no] Your connection request to { $actor } expired.
}
# Before the note that came with an invitation.
label-note = Note
# Before the message that came with a withdrawal or a decline.
label-message = Message

## Emails

subject-invitation-received = { $actor } wants to connect
subject-invitation-accepted = { $actor } accepted your invitation
subject-invitation-declined = Your connection request was withdrawn
subject-invitation-withdrawn = { $actor } withdrew a connection request
subject-invitation-expired = Your connection request expired
subject-invitation-reminder = { $actor } is waiting for your answer
subject-digest = { $count ->
    [one] 1 new notification
   *[other] { $count } new notifications
}
email-greeting = Hi { $name },
email-footer = You can see your invitations in the app.
reminder-text = { $actor } invited you to connect on { $date } and is still waiting for your answer.
digest-intro = Here is what happened since your last digest:
email-unsubscribe = To stop emails like this one: { $url }
html-unsubscribe = Unsubscribe
