//! Virtual MFA devices as the store keeps them (`mfa_devices`).

/// One virtual TOTP device. Its seed stays sealed (under the serial as
/// context); `Debug` leaves it out.
#[derive(Clone, sqlx::FromRow)]
pub struct MfaDevice {
    /// The device's ARN, `arn:aws:iam::ACCT:mfa/PATH/NAME`.
    pub serial: String,
    pub account_id: String,
    pub name: String,
    pub path: String,
    pub seed_ciphertext: Vec<u8>,
    /// The user it is enabled for; None while unassigned.
    pub user_id: Option<String>,
    pub enabled_at: Option<String>,
    /// The newest time step accepted (the replay guard).
    pub last_step: Option<i64>,
    /// Steps from the server's clock to the device's, set by resync.
    pub step_offset: i64,
    pub created_at: String,
}

impl std::fmt::Debug for MfaDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaDevice")
            .field("serial", &self.serial)
            .field("user_id", &self.user_id)
            .field("enabled_at", &self.enabled_at)
            .finish_non_exhaustive()
    }
}

/// A device with the name of the user it is enabled for (the lists show it).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MfaDeviceRow {
    #[sqlx(flatten)]
    pub device: MfaDevice,
    pub user_name: Option<String>,
    pub user_path: Option<String>,
    pub user_created_at: Option<String>,
}

/// A serial number as IAM takes it: 9 to 256 characters of `[\w+=/:,.@-]`.
pub fn serial_is_valid(serial: &str) -> bool {
    (9..=256).contains(&serial.len())
        && serial
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=/:,.@-".contains(c))
}
