"""Quality over many people: the evaluation on annotated photos and videos, its measures and contact sheets."""
