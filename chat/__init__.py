"""Chat rooms, the WebSocket endpoint and protocol, fan-out, live group sessions."""
