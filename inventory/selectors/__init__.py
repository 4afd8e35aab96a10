"""Read-side functions for screens and exports: each combines QuerySet methods for one use."""
