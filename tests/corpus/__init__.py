"""Real public notebooks through the real server, judged against a stock kernel (issue 20, 9a)."""
