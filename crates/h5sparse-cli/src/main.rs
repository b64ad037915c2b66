#[allow(dead_code)]
mod mtx;

fn main() {}
