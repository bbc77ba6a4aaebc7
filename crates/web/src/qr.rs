//! A QR code as inline SVG, for the authenticator app to scan.

use qrcodegen::{QrCode, QrCodeEcc};

/// SVG markup for `text`, or `None` if it does not fit in a QR code.
pub(crate) fn svg(text: &str) -> Option<String> {
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let size = qr.size();
    let border = 4;
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    let dim = size + border * 2;
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {dim} {dim}\" class=\"qr\" role=\"img\" aria-label=\"QR\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_an_svg() {
        let svg = super::svg("otpauth://totp/tsunagu:sato?secret=ABC").unwrap_or_default();
        assert!(svg.starts_with("<svg") && svg.contains("<path d=\"M"));
    }
}
