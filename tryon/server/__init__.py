"""The live try-on server: FastAPI for HTTP, aiortc for WebRTC, one worker thread per session."""
