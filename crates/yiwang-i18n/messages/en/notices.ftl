# Notices and certificates, the verification pages, the console menu and dashboard, TOTP
# enrolment (issue #15, items 11, 13–16).
notices.totp.qr_caption = Scan this QR code with your authenticator app to add the key (or type the key below if you cannot scan).
notices.pdf.digest = Document digest (SM3): {digest}
forms.def.unknown_certificate_field = The certificate mapping names the field “{field}”, which the form does not have (or which is a group).
notices.verify.doc_number = Document or certificate number
notices.verify.printed_digest = Digest printed on the document
notices.verify.printed_digest_note = compare it group by group with “Document digest” at the foot of the document
notices.verify.file_digest = Digest of the electronic file
notices.verify.file_digest_note = of the downloaded PDF file
notices.verify.box_label = Verification code
notices.verify.box_hint = The 20 letters and digits beside the QR code at the foot of the document; upper or lower case.
notices.verify.box_submit = Verify
notices.dash.cases = Cases waiting
notices.dash.total = Waiting for me
notices.dash.overdue = Overdue
notices.dash.due_soon = Due soon
notices.dash.urgent = Most urgent cases (overdue first)
