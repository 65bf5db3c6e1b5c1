// Placeholder: tests of the fraud scoring library (issue 6) are being written.
