//! Certificates for tests of TLS: a private CA and what it signs.

/// A private CA, a server certificate for localhost and 127.0.0.1, and a client certificate, as
/// PEM files (`ca.pem`, `server.pem`/`server.key`, `client.pem`/`client.key`), in a
/// temporary folder; [`Pki::client`] makes more client certificates.
pub struct Pki {
    dir: tempfile::TempDir,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Pki {
    pub fn new() -> Pki {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
            KeyPair, KeyUsagePurpose,
        };
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, pem: String| std::fs::write(dir.path().join(name), pem).unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "mcpgw test CA");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        write("ca.pem", ca.self_signed(&ca_key).unwrap().pem());
        let issuer = Issuer::new(ca, ca_key);
        let server_key = KeyPair::generate().unwrap();
        let server =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        write(
            "server.pem",
            server.signed_by(&server_key, &issuer).unwrap().pem(),
        );
        write("server.key", server_key.serialize_pem());
        let client_key = KeyPair::generate().unwrap();
        let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
        client
            .distinguished_name
            .push(DnType::CommonName, "mcpgw test client");
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        write(
            "client.pem",
            client.signed_by(&client_key, &issuer).unwrap().pem(),
        );
        write("client.key", client_key.serialize_pem());
        Pki { dir, issuer }
    }

    /// A client certificate for `name` (and `email`) signed by this CA: `NAME.pem`,
    /// `NAME.key`.
    pub fn client(&self, name: &str, email: Option<&str>) {
        use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair, SanType};
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        if let Some(email) = email {
            params.subject_alt_names = vec![SanType::Rfc822Name(email.try_into().unwrap())];
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        std::fs::write(self.dir.path().join(format!("{name}.pem")), cert.pem()).unwrap();
        std::fs::write(
            self.dir.path().join(format!("{name}.key")),
            key.serialize_pem(),
        )
        .unwrap();
    }

    /// A reqwest client that trusts this CA and, with `identity`, presents `NAME.pem`.
    pub fn reqwest(&self, identity: Option<&str>) -> reqwest::Client {
        let ca = std::fs::read(self.path("ca.pem")).unwrap();
        let mut builder = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap());
        if let Some(name) = identity {
            let mut pem = std::fs::read(self.path(&format!("{name}.pem"))).unwrap();
            pem.extend(std::fs::read(self.path(&format!("{name}.key"))).unwrap());
            builder = builder.identity(reqwest::Identity::from_pem(&pem).unwrap());
        }
        builder.build().unwrap()
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    pub fn server_env(&self, mutual: bool) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("TLS_CERT", self.path("server.pem")),
            ("TLS_KEY", self.path("server.key")),
        ];
        if mutual {
            env.push(("TLS_CLIENT_CA", self.path("ca.pem")));
        }
        env
    }
}
