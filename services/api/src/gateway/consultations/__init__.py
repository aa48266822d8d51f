"""Consultations on the programme: recipients and questions, responses with the topics they raise, and
their summary."""
