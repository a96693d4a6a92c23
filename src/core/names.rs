//! Naming rules shared by both front ends: ISRC codes and file names safe on every file
//! system.

/// Checks an ISRC (`CC-XXX-YY-NNNNN`: country 2 letters, registrant 3 letters or digits, year
/// 2 digits, designation 5 digits). Hyphens and lower case are accepted; the result is the
/// 12-character upper-case form.
pub fn validate_isrc(s: &str) -> Result<String, String> {
    let code: String = s
        .trim()
        .chars()
        .filter(|&c| c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let bad = |why: &str| {
        Err(format!(
            "invalid ISRC '{s}': {why} (expected CC-XXX-YY-NNNNN, e.g. GB-AYE-26-00001)"
        ))
    };
    if code.chars().count() != 12 {
        return bad(&format!(
            "{} characters without hyphens, not 12",
            code.len()
        ));
    }
    let b = code.as_bytes();
    if !b[..2].iter().all(u8::is_ascii_uppercase) {
        return bad("the country code must be 2 letters");
    }
    if !b[2..5]
        .iter()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return bad("the registrant code must be 3 letters or digits");
    }
    if !b[5..7].iter().all(u8::is_ascii_digit) {
        return bad("the year must be 2 digits");
    }
    if !b[7..].iter().all(u8::is_ascii_digit) {
        return bad("the designation code must be 5 digits");
    }
    Ok(code)
}

/// Replaces characters that are unsafe in file names (`/ \ : * ? " < > |`, control
/// characters) by `_` and trims dots and spaces at the ends.
pub fn safe_file_name(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let t = cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace());
    if t.is_empty() {
        "_".into()
    } else {
        t.to_string()
    }
}
