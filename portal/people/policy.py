"""Who may sign in. Checked at sign-in and again by the user loader on every request."""
PRODUCTION = "production"


def may_sign_in(user, env_name):
    """Active accounts may; demo accounts never in production, even in a database seeded in development."""
    if user is None or not user.active:
        return False
    return not (user.is_demo and env_name == PRODUCTION)
