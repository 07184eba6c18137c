"""A victim's case plan: goals and tasks with who, due date and status, from templates."""
