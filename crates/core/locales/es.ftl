# connreq en español. Variables: ver en.ftl.

## Nombres y fechas

member-fallback = Miembro { $id }
former-member = un antiguo miembro
date = { $day }/{ $month }/{ $year }

## Notificaciones en la aplicación

notification-invitation-received = { $actor } quiere conectar contigo.
notification-invitation-accepted = { $dated ->
    [yes] { $actor } aceptó tu invitación para conectar enviada el { $date }.
   *[no] { $actor } aceptó tu invitación para conectar.
}
notification-invitation-declined = { $dated ->
    [yes] Tu solicitud de contacto a { $actor } enviada el { $date } fue retirada.
   *[no] Tu solicitud de contacto a { $actor } fue retirada.
}
notification-invitation-withdrawn = { $dated ->
    [yes] { $actor } retiró la solicitud de contacto enviada el { $date }.
   *[no] { $actor } retiró la solicitud de contacto.
}
notification-invitation-expired = { $dated ->
    [yes] Tu solicitud de contacto a { $actor } enviada el { $date } caducó.
   *[no] Tu solicitud de contacto a { $actor } caducó.
}
label-note = Nota
label-message = Mensaje

## Correos

subject-invitation-received = { $actor } quiere conectar contigo
subject-invitation-accepted = { $actor } aceptó tu invitación
subject-invitation-declined = Tu solicitud de contacto fue retirada
subject-invitation-withdrawn = { $actor } retiró una solicitud de contacto
subject-invitation-expired = Tu solicitud de contacto caducó
subject-invitation-reminder = { $actor } espera tu respuesta
subject-digest = { $count ->
    [one] 1 notificación nueva
   *[other] { $count } notificaciones nuevas
}
email-greeting = Hola, { $name }:
email-footer = Puedes ver tus invitaciones en la aplicación.
reminder-text = { $actor } te invitó a conectar el { $date } y sigue esperando tu respuesta.
digest-intro = Esto es lo que ha pasado desde tu último resumen:
email-unsubscribe = Para dejar de recibir estos correos: { $url }
html-unsubscribe = Darse de baja
