//! CreateVirtualMFADevice's `QRCodePNG`: the device's `otpauth://` URI as
//! a QR code, in a PNG an authenticator app can scan from a screen.

use qrcode::{Color, QrCode};

/// Pixels per QR module: a device's URI makes a code of 41 to 49 modules,
/// a square of 390 to 460 pixels with its quiet zone.
const SCALE: usize = 8;
/// The blank margin the QR standard asks for, in modules.
const QUIET_ZONE: usize = 4;

/// The PNG of `text` as a QR code: black on white, one bit per pixel. About
/// 2 ms in a release build, 1.7 of them the encoder choosing its mask (a
/// byte per pixel made it 3.4: eight times the data to compress).
pub fn qr_code_png(text: &str) -> anyhow::Result<Vec<u8>> {
    let code = QrCode::new(text.as_bytes())?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * SCALE;
    let row_bytes = side.div_ceil(8);
    // A set bit is white.
    let mut pixels = vec![0xffu8; row_bytes * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (x, y) = (i % modules + QUIET_ZONE, i / modules + QUIET_ZONE);
        for row in y * SCALE..(y + 1) * SCALE {
            for column in x * SCALE..(x + 1) * SCALE {
                pixels[row * row_bytes + column / 8] &= !(0x80 >> (column % 8));
            }
        }
    }
    let mut png = Vec::new();
    let side = u32::try_from(side)?;
    let mut encoder = png::Encoder::new(&mut png, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    // tests/api/mfa scans the code back with another crate.
    #[test]
    fn the_png_is_a_square_of_whole_modules() {
        let png = qr_code_png("otpauth://totp/123456789012:alice?secret=JBSWY3DPEHPK3PXP").unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!(info.width, info.height);
        assert_eq!(info.width as usize % SCALE, 0);
    }
}
