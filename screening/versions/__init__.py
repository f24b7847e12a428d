"""Protocol amendments: a draft's impact on past candidates, its signed activation."""
