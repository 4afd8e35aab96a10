"""Code every app may use and that depends on none of them: the CSV rules shared by the app's
own exports and the admin's import and export."""
