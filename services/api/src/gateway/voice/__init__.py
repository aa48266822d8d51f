"""The voice of people under supervision: survey counts and interview themes, per inspection."""
