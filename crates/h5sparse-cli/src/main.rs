mod json;
fn main() {}
