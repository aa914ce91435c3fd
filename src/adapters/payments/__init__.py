"""Payment gateway adapters on providers' own SDKs (Stripe, through ``stripe.StripeClient``)."""
