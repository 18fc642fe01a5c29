"""12345 hotline docking (接诉即办): work orders pushed by the hotline system with an API key,
their replies (回单), hand-backs (退单) and follow-up calls (回访)."""
