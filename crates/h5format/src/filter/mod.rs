//! The filter pipeline: one module per filter behind one trait.
