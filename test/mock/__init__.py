"""Route modules of the nango mock API.  Every module in this package is
imported by mock_api.py and registers its routes with mockcore.route."""
