"""Domain rules: code lists, measurement scales, dates and messages. Plain Python only."""
