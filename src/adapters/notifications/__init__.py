"""Senders of customer notifications: SMTP email and Twilio text messages."""
