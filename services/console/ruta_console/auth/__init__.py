"""Log in, log out and the browser session (server-side; the cookie holds only its id)."""
