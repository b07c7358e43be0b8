"""Platform engines: eligibility, price curves, LPC, compensation, dispatch expiry."""
