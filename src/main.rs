fn main() {
    println!("latchkey {}", env!("CARGO_PKG_VERSION"));
}
