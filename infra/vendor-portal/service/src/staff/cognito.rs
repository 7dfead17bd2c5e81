//! The staff user pool in Amazon Cognito: the adapter behind
//! [`StaffDirectory`](super::StaffDirectory) and the pool's administration.

use super::{AuthStep, MfaSecret, StaffAuthError, StaffDirectory, policy};
use crate::model::StaffMember;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::{
    AccountRecoverySettingType, AdminCreateUserConfigType, AttributeType, AuthFlowType,
    AuthenticationResultType, ChallengeNameType, DeliveryMediumType, ExplicitAuthFlowsType,
    MessageActionType, PasswordPolicyType, PreventUserExistenceErrorTypes, RecoveryOptionNameType,
    RecoveryOptionType, SoftwareTokenMfaConfigType, SoftwareTokenMfaSettingsType, TimeUnitsType,
    TokenValidityUnitsType, UserPoolMfaType, UserPoolPolicyType, UsernameAttributeType,
    VerifiedAttributeType, VerifySoftwareTokenResponseType,
};

/// The staff user pool in Amazon Cognito.
#[derive(Debug, Clone)]
pub struct CognitoStaff {
    client: Client,
    pool_id: String,
    client_id: String,
}

fn classify<E, R>(err: &SdkError<E, R>) -> StaffAuthError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let message = err.message().unwrap_or("no message").to_owned();
    match err.code() {
        Some(
            "NotAuthorizedException"
            | "UserNotFoundException"
            | "UserNotConfirmedException"
            | "PasswordResetRequiredException",
        ) => StaffAuthError::Refused(message),
        // Real Cognito answers a wrong first code with
        // EnableSoftwareTokenMFAException; moto with CodeMismatchException.
        Some(
            "CodeMismatchException" | "EnableSoftwareTokenMFAException" | "ExpiredCodeException",
        ) => StaffAuthError::WrongCode(message),
        Some("InvalidPasswordException") => StaffAuthError::WeakPassword(message),
        Some(
            "TooManyRequestsException"
            | "LimitExceededException"
            | "TooManyFailedAttemptsException",
        ) => StaffAuthError::Throttled(message),
        _ => StaffAuthError::Unavailable(DisplayErrorContext(err).to_string()),
    }
}

impl CognitoStaff {
    pub fn new(client: Client, pool_id: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self {
            client,
            pool_id: pool_id.into(),
            client_id: client_id.into(),
        }
    }

    /// What a challenge or a token answer means for the sign-in.
    async fn step(
        &self,
        challenge: Option<&ChallengeNameType>,
        session: Option<String>,
        result: Option<&AuthenticationResultType>,
    ) -> Result<AuthStep, StaffAuthError> {
        if let Some(tokens) = result {
            let access = tokens.access_token().ok_or_else(|| {
                StaffAuthError::Unavailable(
                    "the pool answered tokens without an access token".into(),
                )
            })?;
            return self.member(access).await.map(AuthStep::SignedIn);
        }
        let session = session.ok_or_else(|| {
            StaffAuthError::Unavailable("the pool answered a challenge without a session".into())
        })?;
        match challenge {
            Some(ChallengeNameType::NewPasswordRequired) => Ok(AuthStep::NewPassword { session }),
            Some(ChallengeNameType::MfaSetup) => Ok(AuthStep::MfaSetup { session }),
            Some(ChallengeNameType::SoftwareTokenMfa) => Ok(AuthStep::MfaCode { session }),
            Some(other) => Err(StaffAuthError::UnexpectedChallenge(
                other.as_str().to_owned(),
            )),
            None => Err(StaffAuthError::Unavailable(
                "the pool answered neither tokens nor a challenge".into(),
            )),
        }
    }

    /// Who the access token belongs to, according to the pool itself.
    async fn member(&self, access_token: &str) -> Result<StaffMember, StaffAuthError> {
        let user = self
            .client
            .get_user()
            .access_token(access_token)
            .send()
            .await
            .map_err(|e| classify(&e))?;
        let attr = |name: &str| {
            user.user_attributes()
                .iter()
                .find(|a| a.name() == name)
                .and_then(|a| a.value())
                .map(str::to_owned)
        };
        Ok(StaffMember {
            sub: attr("sub").unwrap_or_else(|| user.username().to_owned()),
            email: attr("email").unwrap_or_else(|| user.username().to_owned()),
        })
    }

    async fn respond(
        &self,
        challenge: ChallengeNameType,
        session: &str,
        responses: &[(&str, &str)],
    ) -> Result<AuthStep, StaffAuthError> {
        let mut call = self
            .client
            .admin_respond_to_auth_challenge()
            .user_pool_id(&self.pool_id)
            .client_id(&self.client_id)
            .challenge_name(challenge)
            .session(session);
        for (k, v) in responses {
            call = call.challenge_responses(*k, *v);
        }
        let out = call.send().await.map_err(|e| classify(&e))?;
        self.step(
            out.challenge_name(),
            out.session().map(str::to_owned),
            out.authentication_result(),
        )
        .await
    }
}

#[async_trait::async_trait]
impl StaffDirectory for CognitoStaff {
    async fn sign_in(&self, username: &str, password: &str) -> Result<AuthStep, StaffAuthError> {
        let out = self
            .client
            .admin_initiate_auth()
            .user_pool_id(&self.pool_id)
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password)
            .send()
            .await
            .map_err(|e| classify(&e))?;
        self.step(
            out.challenge_name(),
            out.session().map(str::to_owned),
            out.authentication_result(),
        )
        .await
    }

    async fn new_password(
        &self,
        username: &str,
        session: &str,
        new_password: &str,
    ) -> Result<AuthStep, StaffAuthError> {
        self.respond(
            ChallengeNameType::NewPasswordRequired,
            session,
            &[("USERNAME", username), ("NEW_PASSWORD", new_password)],
        )
        .await
    }

    async fn begin_mfa_setup(&self, session: &str) -> Result<MfaSecret, StaffAuthError> {
        let out = self
            .client
            .associate_software_token()
            .session(session)
            .send()
            .await
            .map_err(|e| classify(&e))?;
        Ok(MfaSecret {
            secret: out
                .secret_code()
                .ok_or_else(|| StaffAuthError::Unavailable("no secret code in the answer".into()))?
                .to_owned(),
            session: out.session().unwrap_or(session).to_owned(),
        })
    }

    async fn finish_mfa_setup(
        &self,
        username: &str,
        session: &str,
        code: &str,
    ) -> Result<AuthStep, StaffAuthError> {
        let verified = self
            .client
            .verify_software_token()
            .session(session)
            .user_code(code)
            .friendly_device_name("zonewarden vendor portal")
            .send()
            .await
            .map_err(|e| classify(&e))?;
        if verified.status() != Some(&VerifySoftwareTokenResponseType::Success) {
            return Err(StaffAuthError::WrongCode(
                "the pool did not accept the authenticator".into(),
            ));
        }
        let session = verified.session().unwrap_or(session).to_owned();
        let out = self
            .client
            .admin_respond_to_auth_challenge()
            .user_pool_id(&self.pool_id)
            .client_id(&self.client_id)
            .challenge_name(ChallengeNameType::MfaSetup)
            .session(&session)
            .challenge_responses("USERNAME", username)
            .send()
            .await
            .map_err(|e| classify(&e))?;
        // Make the authenticator the member's MFA method explicitly, so that
        // every later sign-in asks for its code whatever the pool's defaults.
        if let Some(access) = out.authentication_result().and_then(|r| r.access_token()) {
            self.client
                .set_user_mfa_preference()
                .access_token(access)
                .software_token_mfa_settings(
                    SoftwareTokenMfaSettingsType::builder()
                        .enabled(true)
                        .preferred_mfa(true)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| classify(&e))?;
        }
        self.step(
            out.challenge_name(),
            out.session().map(str::to_owned),
            out.authentication_result(),
        )
        .await
    }

    async fn mfa_code(
        &self,
        username: &str,
        session: &str,
        code: &str,
    ) -> Result<AuthStep, StaffAuthError> {
        self.respond(
            ChallengeNameType::SoftwareTokenMfa,
            session,
            &[("USERNAME", username), ("SOFTWARE_TOKEN_MFA_CODE", code)],
        )
        .await
    }
}

// ---- administration: the admin command and local runs ----

/// Why an administrative call on the pool failed.
#[derive(Debug, thiserror::Error)]
#[error("Cognito {operation}: {detail}")]
pub struct PoolError {
    pub operation: &'static str,
    pub detail: String,
}

fn pool_err<E, R>(operation: &'static str) -> impl Fn(SdkError<E, R>) -> PoolError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    move |e| PoolError {
        operation,
        detail: DisplayErrorContext(&e).to_string(),
    }
}

fn build_err(
    operation: &'static str,
) -> impl Fn(aws_sdk_cognitoidentityprovider::error::BuildError) -> PoolError {
    move |e| PoolError {
        operation,
        detail: e.to_string(),
    }
}

/// Creates a staff pool and its app client with the template's settings
/// (MFA required, authenticator apps only, accounts created by
/// administrators only, the password policy, the admin-only auth flow).
/// For local runs against moto and tests; in AWS the template creates them.
/// Answers the pool id and the client id.
pub async fn create_pool(client: &Client, name: &str) -> Result<(String, String), PoolError> {
    let op = "CreateUserPool";
    let pool = client
        .create_user_pool()
        .pool_name(name)
        .username_attributes(UsernameAttributeType::Email)
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .admin_create_user_config(
            AdminCreateUserConfigType::builder()
                .allow_admin_create_user_only(true)
                .build(),
        )
        .policies(
            UserPoolPolicyType::builder()
                .password_policy(
                    PasswordPolicyType::builder()
                        .minimum_length(policy::MIN_PASSWORD_LENGTH)
                        .require_lowercase(true)
                        .require_uppercase(true)
                        .require_numbers(true)
                        .require_symbols(true)
                        .temporary_password_validity_days(policy::TEMPORARY_PASSWORD_DAYS)
                        .build(),
                )
                .build(),
        )
        .account_recovery_setting(
            AccountRecoverySettingType::builder()
                .recovery_mechanisms(
                    RecoveryOptionType::builder()
                        .name(RecoveryOptionNameType::AdminOnly)
                        .priority(1)
                        .build()
                        .map_err(build_err(op))?,
                )
                .build(),
        )
        .send()
        .await
        .map_err(pool_err(op))?;
    let pool_id = pool
        .user_pool()
        .and_then(|p| p.id())
        .ok_or_else(|| PoolError {
            operation: op,
            detail: "no pool id in the answer".into(),
        })?
        .to_owned();
    // MFA on, authenticator apps only: set after creation, as the API wants.
    client
        .set_user_pool_mfa_config()
        .user_pool_id(&pool_id)
        .mfa_configuration(UserPoolMfaType::On)
        .software_token_mfa_configuration(
            SoftwareTokenMfaConfigType::builder().enabled(true).build(),
        )
        .send()
        .await
        .map_err(pool_err("SetUserPoolMfaConfig"))?;
    let app = client
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("vendor-portal")
        .generate_secret(false)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled)
        .enable_token_revocation(true)
        .auth_session_validity(policy::AUTH_SESSION_MINUTES)
        .access_token_validity(policy::TOKEN_MINUTES)
        .id_token_validity(policy::TOKEN_MINUTES)
        .refresh_token_validity(policy::REFRESH_TOKEN_MINUTES)
        .token_validity_units(
            TokenValidityUnitsType::builder()
                .access_token(TimeUnitsType::Minutes)
                .id_token(TimeUnitsType::Minutes)
                .refresh_token(TimeUnitsType::Minutes)
                .build(),
        )
        .send()
        .await
        .map_err(pool_err("CreateUserPoolClient"))?;
    let client_id = app
        .user_pool_client()
        .and_then(|c| c.client_id())
        .ok_or_else(|| PoolError {
            operation: "CreateUserPoolClient",
            detail: "no client id in the answer".into(),
        })?
        .to_owned();
    Ok((pool_id, client_id))
}

/// Adds a staff member. With `temporary_password`, Cognito sends nothing and
/// the caller hands the password over; without, Cognito e-mails one.
/// Answers the member's `sub`.
pub async fn add_member(
    client: &Client,
    pool_id: &str,
    email: &str,
    temporary_password: Option<&str>,
) -> Result<String, PoolError> {
    let op = "AdminCreateUser";
    let attr = |name: &str, value: &str| {
        AttributeType::builder()
            .name(name)
            .value(value)
            .build()
            .map_err(build_err(op))
    };
    let mut call = client
        .admin_create_user()
        .user_pool_id(pool_id)
        .username(email)
        .user_attributes(attr("email", email)?)
        .user_attributes(attr("email_verified", "true")?);
    call = match temporary_password {
        Some(p) => call
            .temporary_password(p)
            .message_action(MessageActionType::Suppress),
        None => call.desired_delivery_mediums(DeliveryMediumType::Email),
    };
    let out = call.send().await.map_err(pool_err(op))?;
    let user = out.user().ok_or_else(|| PoolError {
        operation: op,
        detail: "no user in the answer".into(),
    })?;
    Ok(user
        .attributes()
        .iter()
        .find(|a| a.name() == "sub")
        .and_then(|a| a.value())
        .unwrap_or(user.username().unwrap_or(email))
        .to_owned())
}

/// Disables a staff member and signs them out of Cognito everywhere;
/// answers their `sub` (the portal ends their sessions by it).
pub async fn disable_member(
    client: &Client,
    pool_id: &str,
    email: &str,
) -> Result<String, PoolError> {
    let user = client
        .admin_get_user()
        .user_pool_id(pool_id)
        .username(email)
        .send()
        .await
        .map_err(pool_err("AdminGetUser"))?;
    let sub = user
        .user_attributes()
        .iter()
        .find(|a| a.name() == "sub")
        .and_then(|a| a.value())
        .unwrap_or(user.username())
        .to_owned();
    client
        .admin_disable_user()
        .user_pool_id(pool_id)
        .username(email)
        .send()
        .await
        .map_err(pool_err("AdminDisableUser"))?;
    client
        .admin_user_global_sign_out()
        .user_pool_id(pool_id)
        .username(email)
        .send()
        .await
        .map_err(pool_err("AdminUserGlobalSignOut"))?;
    Ok(sub)
}
