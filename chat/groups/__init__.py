"""Live group sessions: scheduled, facilitated sessions in their own chat rooms."""
