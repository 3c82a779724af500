"""Voice notes: microphone capture (`capture`) and offline transcription (`transcribe`)."""
