"""Stage 4, the plan: ordered actions with reasons, and the rules that shape them."""
