"""The registry of funded projects (code, name, funder, period, offices) and cases' projects."""
