// Placeholder: static checks of Compose/ and the Dockerfile (issue 7) are being written.
