"""Secret shapes from Yelp's detect-secrets, vendored as data (its regex plugins, unchanged).

Source: detect-secrets 1.5.0 (Apache-2.0, https://github.com/Yelp/detect-secrets),
detect_secrets/plugins/*.py, each plugin's `denylist`. Why vendored and not imported: importing
a plugin imports `requests` (115 ms, five times `hks --help`), and hks needs the patterns only.
Why these plugins: they match a token's own shape. Left out: the keyword and high-entropy
plugins (they flag any `password:` or random-looking value: digests, hashes, sealed data),
ip_public (an address is not a secret), and the Cloudant, SoftLayer and IBM plugins (they look
for assignments in source code, `cloudant_password = "..."`, not for a token).
tests/test_secret_leaks.py compares every pattern with the installed detect-secrets at
DETECT_SECRETS_VERSION; to update, bump both (pyproject.toml's test extra) and copy the new
denylists here.
"""

from __future__ import annotations

import re

DETECT_SECRETS_VERSION = "1.5.0"

# (plugin class, what hks calls it, its denylist as (pattern, flags))
PLUGINS: tuple[tuple[str, str, tuple[tuple[str, int], ...]], ...] = (
    ('AWSKeyDetector', 'an AWS access key', (
        ('(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}', 0),
        ('aws.{0,20}?(?:key|pwd|pw|password|pass|token).{0,20}?[\\\'\\"]([0-9a-zA-Z/+]{40})[\\\'\\"]', re.IGNORECASE),
    )),
    ('ArtifactoryDetector', 'an Artifactory token or password', (
        ('(?:\\s|=|:|"|^)AKC[a-zA-Z0-9]{10,}(?:\\s|"|$)', 0),
        ('(?:\\s|=|:|"|^)AP[\\dABCDEF][a-zA-Z0-9]{8,}(?:\\s|"|$)', 0),
    )),
    ('AzureStorageKeyDetector', 'an Azure storage account key', (
        ('AccountKey=[a-zA-Z0-9+\\/=]{88}', 0),
    )),
    ('BasicAuthDetector', 'a URL with a password in it', (
        ("://[^:/\\?\\#\\[\\]@!\\$\\&'\\(\\)\\*\\+,;=\\s]+:([^:/\\?\\#\\[\\]@!\\$\\&'\\(\\)\\*\\+,;=\\s]+)@", 0),
    )),
    ('DiscordBotTokenDetector', 'a Discord bot token', (
        ('[MNO][a-zA-Z\\d_-]{23,25}\\.[a-zA-Z\\d_-]{6}\\.[a-zA-Z\\d_-]{27}', 0),
    )),
    ('GitHubTokenDetector', 'a GitHub token', (
        ('(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36}', 0),
    )),
    ('GitLabTokenDetector', 'a GitLab token', (
        ('(glpat|gldt|glft|glsoat|glrt)-[A-Za-z0-9_\\-]{20,50}(?!\\w)', 0),
        ('GR1348941[A-Za-z0-9_\\-]{20,50}(?!\\w)', 0),
        ('glcbt-([0-9a-fA-F]{2}_)?[A-Za-z0-9_\\-]{20,50}(?!\\w)', 0),
        ('glimt-[A-Za-z0-9_\\-]{25}(?!\\w)', 0),
        ('glptt-[A-Za-z0-9_\\-]{40}(?!\\w)', 0),
        ('glagent-[A-Za-z0-9_\\-]{50,1024}(?!\\w)', 0),
        ('gloas-[A-Za-z0-9_\\-]{64}(?!\\w)', 0),
    )),
    ('JwtTokenDetector', 'a JSON Web Token', (
        ('eyJ[A-Za-z0-9-_=]+\\.[A-Za-z0-9-_=]+\\.?[A-Za-z0-9-_.+/=]*?', 0),
    )),
    ('MailchimpDetector', 'a Mailchimp API key', (
        ('[0-9a-z]{32}-us[0-9]{1,2}', 0),
    )),
    ('NpmDetector', 'an npm token', (
        ('\\/\\/.+\\/:_authToken=\\s*((npm_.+)|([A-Fa-f0-9-]{36})).*', 0),
    )),
    ('OpenAIDetector', 'an OpenAI API key', (
        ('sk-[A-Za-z0-9-_]*[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}', 0),
    )),
    ('PrivateKeyDetector', 'a private key', (
        ('BEGIN DSA PRIVATE KEY', 0),
        ('BEGIN EC PRIVATE KEY', 0),
        ('BEGIN OPENSSH PRIVATE KEY', 0),
        ('BEGIN PGP PRIVATE KEY BLOCK', 0),
        ('BEGIN PRIVATE KEY', 0),
        ('BEGIN RSA PRIVATE KEY', 0),
        ('BEGIN SSH2 ENCRYPTED PRIVATE KEY', 0),
        ('PuTTY-User-Key-File-2', 0),
    )),
    ('PypiTokenDetector', 'a PyPI token', (
        ('pypi-AgEIcHlwaS5vcmc[A-Za-z0-9-_]{70,}', 0),
        ('pypi-AgENdGVzdC5weXBpLm9yZw[A-Za-z0-9-_]{70,}', 0),
    )),
    ('SendGridDetector', 'a SendGrid API key', (
        ('SG\\.[a-zA-Z0-9_-]{22}\\.[a-zA-Z0-9_-]{43}', 0),
    )),
    ('SlackDetector', 'a Slack token or webhook', (
        ('xox(?:a|b|p|o|s|r)-(?:\\d+-)+[a-z0-9]+', re.IGNORECASE),
        ('https://hooks\\.slack\\.com/services/T[a-zA-Z0-9_]+/B[a-zA-Z0-9_]+/[a-zA-Z0-9_]+', re.IGNORECASE | re.VERBOSE),
    )),
    ('SquareOAuthDetector', 'a Square OAuth secret', (
        ('sq0csp-[0-9A-Za-z\\\\\\-_]{43}', 0),
    )),
    ('StripeDetector', 'a Stripe key', (
        ('(?:r|s)k_live_[0-9a-zA-Z]{24}', 0),
    )),
    ('TelegramBotTokenDetector', 'a Telegram bot token', (
        ('\\d{8,10}:[0-9A-Za-z_-]{35}', 0),
    )),
    ('TwilioKeyDetector', 'a Twilio key', (
        ('AC[a-z0-9]{32}', 0),
        ('SK[a-z0-9]{32}', 0),
    )),
)
