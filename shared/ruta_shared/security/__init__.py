"""Authentication, authorisation, partner credentials, field encryption and the access log."""
