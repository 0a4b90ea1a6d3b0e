# Outbound notifications (SMS / WeChat). Sent in zh-CN; the English texts are for the console.
notify.case_submitted = Your application was submitted: case {case_number}. Follow its progress online.
notify.case_accepted = Your case {case_number} was accepted; promised completion by {due_date}.
notify.case_rejected = Your case {case_number} was not accepted; sign in to read the decision.
notify.correction_required = Your case {case_number} needs corrected materials; sign in to read the notice.
notify.case_resumed = Corrections for case {case_number} received; handling continues.
notify.case_decided = A decision was made on your case {case_number}; sign in to read it.
notify.case_completed = Your case {case_number} is complete; sign in to download the result.
notify.case_submitted_code = Your case {case_number} was submitted; query code {query_code}. With the case number and this code you can follow it on the progress page or through the 12345 hotline.
notify.case_status = Case {case_number}: {status}.
notify.test = Test message: {text}
notify.password_reset_code = Your code to reset your password is {code}; it is valid for {minutes} minutes. Do not share it.
notify.password_reset_done = Your password was reset with a text message code and every device was signed out. If this was not you, contact the service hall at once.
