# API area. The JSON API has no text of its own: its messages are the error messages
# (errors.ftl), chosen by ?lang= or Accept-Language.
