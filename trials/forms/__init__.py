"""Forms as data: the form registry and the expression language its rules are written in."""
