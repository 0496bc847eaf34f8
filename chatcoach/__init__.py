"""ChatCoach: funnel stages, QA flags and SOP reply suggestions for private-domain sales chats."""

__version__ = "0.1.0"
