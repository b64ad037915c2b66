//! Decoded values of any datatype (for dumps and attributes) and numeric conversion.
