// Placeholder: browser tests of the operations console (issue 7) are being written.
