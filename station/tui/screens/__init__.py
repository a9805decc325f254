"""Full screens: sign-in, the line, help."""
