"""The domain layer's services. Front ends (GUI, CLI, endpoint) call these and nothing below them."""
