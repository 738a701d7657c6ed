// File: keys/test_keys.hpp
// Throwaway key pairs for the auth unit tests, embedded so the tests need no data files. Made
// with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048` and
// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:<curve>`, public halves with
// `openssl pkey -pubout`, the certificate with `openssl req -x509`. Never use them elsewhere.
#pragma once

#include <string_view>

namespace gyre::auth::test_keys {

// RSA 2048
inline constexpr std::string_view rsa_private = R"pem(-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDfG/35OSwpsnGN
msPV9F8x6Gjc+ngo5o7MKnZA3dGbCXGmp73FzxzTTi21HcSfqyiWAbxE4fTtr5RQ
GdbXZMYTv0dqzt9xcTJOsF4jgic3VdFjwgBQ1CTnRq7tyxx4ErQKph5d6R7pQ6KF
r5bc9jjcKOcT57fvxPXJ99PE0qepsOpXQKjiWN3RkJtuzfdQtSJDRQm3XdQEenXJ
+VUCgo1u+tIzoJXS5r0H5fjzl+tWFSSWDfrRiSFoibwRa0isMvUg+INKZI4aGCi1
LNzq5/ktCEcV6HYr1TyJSeVGn+3YsLG7C4K06kmuWyzcCyzU09yBmH3FQARQB4vE
QEaxapHFAgMBAAECggEAFw+XoskMDYtKPW6/yz+lD02MeTrSbLfYDrZc3ruOzM2f
F7DC5s1Pl2+/PbdD+ZUBbu/i++O3I1JArD7ffAgIiUX+JcYYRmuC3atRL65mS0vt
hrgovDIRVm5x6lZSLP8R6P/ep6pO7aF2DQdnOpOgsPDxYZdT5c6f8S5Sj0eO2PUk
6E8q6r1l1auysyV/elnDBLqCqoEvT0rQML9OVwWTkR9pVVQsGZMVx0IabZxG9QlO
xOp9GQEUJ9vmDnyu9q/BPDlon/sz4KodnxBsZazptvSTy6FU9dp1BfNmrZYTm6BV
W81WJNsF5CzimVRcft15IFzE1OjIWu0ck+La1kG0SQKBgQD8sDUquzmVkan0cs0C
NTobabQAJno7TmaKrgQnF8tN+ErJZe4E+2D//ucaJJDd5IonZ90IB5rxqJo5Ca5a
DlbY24i9HNXHnZw7E7cyirLaTsZUjV3eIuoswGBevZoywenyljllm3gBKZFfF3zN
ZCZdR5dfGx/Wdz5giBNU/1sCVwKBgQDiCItVRA8CmOFFmfcIT6liD2ZHu4YIGkve
lDrAFQum6RVfxY2gkp8VTaEovWPY3RZyehrNUZhucsNf3pfEFk/oHqNdhLYo0y2d
A7dKwmqBW6OSiPPIg6/sK3TghHV5HbtykrE8r5YBgDlVzy1UqTcO/et1OCkzhsxc
tExvWSeTQwKBgQD8c/9qRctuRy2Jb/iqMAtxv9V6IPcVsWp5OwojFH6l017Ef/Wh
PJTYrg6t68JgLiho3jfSAecncM9EFQwAJTtXRV4Dsn9TA4BG9ZeeAzxVJ0a2ytXx
TOiw9TJS9RLNizb0immlvgHTB3iZjJm/ikNaBmCRQEQ6vL+xKcJGtShz2QKBgQCJ
fDb8Ayy6ILGNe2wmMwZNbh6BbU/GZ/BUD4d4xJRUzxvAKFLQI7793z0yoZg1Fa2M
rjbVQldcfxPVoXhgvk2WW+R0gr+mL2VkRxlbMMxFqK7i98iI44jDN1+dHRSzOeGF
fDKwPgEZIpw9VIo3H8IsrUhmAWYWQFzX2pdPd0Q6LwKBgFlSYbcrT6kIgcG3y9xp
uMNTMorwrWlfuaa9KRXpg7OCakBIWP84bC1dzh+59S2TrL/HhL99AiQ9OgVptyzT
TtPQPoAsE1/AruUHisC2OfNnpPQQArtSGD471FRbp0lJ4n/seFW2KprcXKJKciq6
naS07pT+ALyO9m7qRN/+rPqP
-----END PRIVATE KEY-----
)pem";
inline constexpr std::string_view rsa_public = R"pem(-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA3xv9+TksKbJxjZrD1fRf
Meho3Pp4KOaOzCp2QN3Rmwlxpqe9xc8c004ttR3En6solgG8ROH07a+UUBnW12TG
E79Has7fcXEyTrBeI4InN1XRY8IAUNQk50au7csceBK0CqYeXeke6UOiha+W3PY4
3CjnE+e378T1yffTxNKnqbDqV0Co4ljd0ZCbbs33ULUiQ0UJt13UBHp1yflVAoKN
bvrSM6CV0ua9B+X485frVhUklg360YkhaIm8EWtIrDL1IPiDSmSOGhgotSzc6uf5
LQhHFeh2K9U8iUnlRp/t2LCxuwuCtOpJrlss3Ass1NPcgZh9xUAEUAeLxEBGsWqR
xQIDAQAB
-----END PUBLIC KEY-----
)pem";

// self-signed X.509 certificate for rsa_private
inline constexpr std::string_view rsa_certificate = R"pem(-----BEGIN CERTIFICATE-----
MIIDCzCCAfOgAwIBAgIUFYLA2y3TaBCbHqyOKRQ1UM8iKtowDQYJKoZIhvcNAQEL
BQAwFDESMBAGA1UEAwwJZ3lyZS10ZXN0MCAXDTI2MTEyNTE4NTkyMFoYDzIxMjYx
MTAxMTg1OTIwWjAUMRIwEAYDVQQDDAlneXJlLXRlc3QwggEiMA0GCSqGSIb3DQEB
AQUAA4IBDwAwggEKAoIBAQDfG/35OSwpsnGNmsPV9F8x6Gjc+ngo5o7MKnZA3dGb
CXGmp73FzxzTTi21HcSfqyiWAbxE4fTtr5RQGdbXZMYTv0dqzt9xcTJOsF4jgic3
VdFjwgBQ1CTnRq7tyxx4ErQKph5d6R7pQ6KFr5bc9jjcKOcT57fvxPXJ99PE0qep
sOpXQKjiWN3RkJtuzfdQtSJDRQm3XdQEenXJ+VUCgo1u+tIzoJXS5r0H5fjzl+tW
FSSWDfrRiSFoibwRa0isMvUg+INKZI4aGCi1LNzq5/ktCEcV6HYr1TyJSeVGn+3Y
sLG7C4K06kmuWyzcCyzU09yBmH3FQARQB4vEQEaxapHFAgMBAAGjUzBRMB0GA1Ud
DgQWBBQTxgfeLS5Oy2SqZ1B6FsCffsqpSjAfBgNVHSMEGDAWgBQTxgfeLS5Oy2Sq
Z1B6FsCffsqpSjAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQAM
CXzi4GypxR6SSglHxToE0zpVbykjKgQSz3xD67XuNy45KzBJKRQJGs5GPR1dPtg7
9JFB2vY7bed9o1DuzPCmkHKRwEAcW16Qb5VwmUpSdV4IJBFtCat6dtL0tYij3kBZ
1ccqgcsYr4o+kiwWMeIwSUOEPgGrBL59szVZY1wi+UTSH0mG9NyjnB84R36BYDFD
bIAbjsC+cGlZ0ct4/ZJaTruJQ70cGSVr2D61Ujy6bPUIQvGmcEIhhBtsjHPTsEzJ
2Kck+/AzYTXyMPQg0pejmcZazvnGkUAJx5qgQPjyZXnyMOOnIMj0W4x17Xvfbt+H
rcrtebXfuWVbMrV5Vu5f
-----END CERTIFICATE-----
)pem";

// a second, unrelated RSA 2048 key
inline constexpr std::string_view rsa_other_private = R"pem(-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCq67Uc0VNUu8tA
vcrkWHei73YEBsVdEYPtreMCWI5BotTxIc6boKeB8s5SHdmmVnw1yQEHR9u8N3h+
n0SVsLiyP3jKmQdKC0ce0jaFjBSxOnOcARA4XeYCUQNzTEDUpIiG+wcIpFROGJDt
zm7ECxeg4q0svc6cq8TnCGvqkh562QhcNx5ojajTC2s0R7ij9rm1xuMgLR5JWaes
v9pbX6Y9bYz9/+T0ZIhmnGFdqf+a8+1oNIXiIwRb0FcZlZ9G0W/VkDkSxphJMxZf
7XOWX41otJj0cDwfW01HRI5T8mudQkqT629klEyxvNZsj1FitMWEpAXB4gDIMua+
8t6uSmEPAgMBAAECggEAG6MTXP6H7+qRuf02YmffqGv59Dq4DQ14/KSiUU3KatiO
gBMMWmPG0h9Vtzd2awwO949x6CB5aly50hekumOh6ciTmobWA+YA8P3irQNykRm3
eeE+Iy8jsvowiaMp1HhqTxEmGQKhUyNrw9geVvrILk6Y2+QxFWo843KcKIjJ/uj3
VxV+mY29gT0dBUu2KrmEm8I/Cdz97hIT3fJkDefaVaAm2LwP119oR0NEkOUeKqhE
rm0U9ncYx+isDRYKdMdLDp9tLB1rr7rbwM5JUdOs1dEVWW8G6ZGXIba/jDX79lZl
N7sBl8DBV7v/D43uiTEGYrkRtgRPugKKp6bB1eiIOQKBgQDavlghEsd0dw6c/3Sp
mKQh1fDcfY/iy+2E/qGGG3cGPYqqVEiYVsa0Ys7mJ0V0s4rPebwnE59p+ZLJkEXY
ZcJWvORfFJfL3g5tQX96WJ+G2Q4Z0qKlm+JdYRTebrQ2xJmAdi4g2WkdY6EiJueI
NEfbXj7gUpfjhrOxm95IivTvnQKBgQDICDGFLE+vXwpmaiWqzZU8jR+RLWyPOCNA
wYj8VRK56MeZkHL9x0IulyC1gFK8oEeT5r7URdPyJhnM4khSu57XPon8viyta6Mp
ypO0fEVDkmHWEDs1JLB1e/3X4KoRFcUWyjh6whhW40xpReWtCNi3hXgZf6r+QO9O
ybX5DE1xmwKBgCIJuID9ARh4Zke74JV7cR7qwZ4t07QA86bcUJojr/PCo885akp6
RlVPgs6BkedFAPakBMk33niJI3RGBPhVbVY98nNxKuXIWgpaRNHu9HPxVqZiBnkq
tqC9OJgcNeLH2PMKcMcfzaGLHUnJMAIb0IqsMbCKaaQ4E8IxdPdo2BBpAoGAfs6C
5hOjKF+triMYYeEV/F7SZixPp7NE1eZauuwLhQOGlVk3LJ5G3FY+DBGfYaiR97bN
vq/NnrJ8pJ/GjXwXRAiHXUwJ8p5Lv1CGtmIZXq7LivKbNiNeIfxKfbIU3ePZH4tu
ppOo7lwFsq723OzAxga8jh2a/reXfXDuBUXBSoUCgYAS5wD4cc81eAfPiKws509O
2IeoRhLzSe/2N3UCRWceJDm7CZBOvATG5fGCXyGUIRcvHy8+4ifAGriDyfUMZrEp
BvLjpHdB8EhMPQfiHP+mdqVEMD9CITkmaXXP+gPdrzgKnbO7WXI/P3WzwnKeQI6n
Z0+yYwc8qZ9E0KBRrKa+8A==
-----END PRIVATE KEY-----
)pem";
inline constexpr std::string_view rsa_other_public = R"pem(-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAquu1HNFTVLvLQL3K5Fh3
ou92BAbFXRGD7a3jAliOQaLU8SHOm6CngfLOUh3ZplZ8NckBB0fbvDd4fp9ElbC4
sj94ypkHSgtHHtI2hYwUsTpznAEQOF3mAlEDc0xA1KSIhvsHCKRUThiQ7c5uxAsX
oOKtLL3OnKvE5whr6pIeetkIXDceaI2o0wtrNEe4o/a5tcbjIC0eSVmnrL/aW1+m
PW2M/f/k9GSIZpxhXan/mvPtaDSF4iMEW9BXGZWfRtFv1ZA5EsaYSTMWX+1zll+N
aLSY9HA8H1tNR0SOU/JrnUJKk+tvZJRMsbzWbI9RYrTFhKQFweIAyDLmvvLerkph
DwIDAQAB
-----END PUBLIC KEY-----
)pem";

// P-256 (ES256)
inline constexpr std::string_view ec_p256_private = R"pem(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgWeZ4suSkAG9oIjmb
hj8yDIEsX/WErPKh0UtkdYO7gGGhRANCAARCFZ2kC3y6Jj1d5HoswyO6USxQtFKt
QqzuJkHx9oAKz5YXNiCcswR8XPHm063xWuaN4gqZiHOrBTqaujSA4yde
-----END PRIVATE KEY-----
)pem";
inline constexpr std::string_view ec_p256_public = R"pem(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEQhWdpAt8uiY9XeR6LMMjulEsULRS
rUKs7iZB8faACs+WFzYgnLMEfFzx5tOt8VrmjeIKmYhzqwU6mro0gOMnXg==
-----END PUBLIC KEY-----
)pem";

// P-384 (ES384)
inline constexpr std::string_view ec_p384_private = R"pem(-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDD5AX9r1t+fyMGsQA3v
Z3AzKjx2nmW5LyTmWc1wobSb1AG4j666XLef3rC6PPIeMyGhZANiAATqel9ZnZMC
0DX+0Sb0YIO6nFhUirwa5vkCkgKItOabr3RuRPa3+WELJ0pAoOFni7vnVdAuheRX
C/tyxiVq6y3vUU3otziTyuJ/J171vNBGB/IrRPEOMAkAe5OABfnl8bQ=
-----END PRIVATE KEY-----
)pem";
inline constexpr std::string_view ec_p384_public = R"pem(-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE6npfWZ2TAtA1/tEm9GCDupxYVIq8Gub5
ApICiLTmm690bkT2t/lhCydKQKDhZ4u751XQLoXkVwv7csYlaust71FN6Lc4k8ri
fyde9bzQRgfyK0TxDjAJAHuTgAX55fG0
-----END PUBLIC KEY-----
)pem";

// P-521 (ES512)
inline constexpr std::string_view ec_p521_private = R"pem(-----BEGIN PRIVATE KEY-----
MIHuAgEAMBAGByqGSM49AgEGBSuBBAAjBIHWMIHTAgEBBEIBaoZH6y4q6rQKkxkt
wN8PjNe7yaHazL/rP2UnR/SFjRkb/78qUoJIJeip1w9qDpPsIQe2vgRJRP90mT/S
lsPFOVihgYkDgYYABAH1zfPEBdEXnOEO9zuh32OkepLsPGLz7wVFgpSFAe6B321w
MS462l0ltAac/KuJLotlEzSlNdc4wMCuccuostmbXwFMZFMlzMRYQu+bhbplkANs
+YJlDfbMYnX///AKIZeQM5lEcTTf18JhUvx/epR+LQ3IIMVAjkvn1q8i2sZ0ndul
qw==
-----END PRIVATE KEY-----
)pem";
inline constexpr std::string_view ec_p521_public = R"pem(-----BEGIN PUBLIC KEY-----
MIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQB9c3zxAXRF5zhDvc7od9jpHqS7Dxi
8+8FRYKUhQHugd9tcDEuOtpdJbQGnPyriS6LZRM0pTXXOMDArnHLqLLZm18BTGRT
JczEWELvm4W6ZZADbPmCZQ32zGJ1///wCiGXkDOZRHE039fCYVL8f3qUfi0NyCDF
QI5L59avItrGdJ3bpas=
-----END PUBLIC KEY-----
)pem";

// a second, unrelated P-256 key
inline constexpr std::string_view ec_other_private = R"pem(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgWuAys7auvfyEAtZm
f9TLOEwR+1xp12lRFwfyQ78zx6ShRANCAARJpo9VB6CQ6rwxtJ4C+kDb2NE8yzQd
e3Kehxl5DZg05MY3uYrAXDQBJvcGD4GkUhRIDFnIW+Yl/+MnLPdJ/QYJ
-----END PRIVATE KEY-----
)pem";
inline constexpr std::string_view ec_other_public = R"pem(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAESaaPVQegkOq8MbSeAvpA29jRPMs0
HXtynocZeQ2YNOTGN7mKwFw0ASb3Bg+BpFIUSAxZyFvmJf/jJyz3Sf0GCQ==
-----END PUBLIC KEY-----
)pem";

// secp256k1: a curve no JWS ES algorithm uses
inline constexpr std::string_view ec_secp256k1_public = R"pem(-----BEGIN PUBLIC KEY-----
MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAE2eh8zWNFSLv9NBEqMLbGDbxDaOmAOo2V
Ce5TNjLul3FMozXAWtq4PbLlen8y36BnHXUz20LVt+PCjf79jOXSug==
-----END PUBLIC KEY-----
)pem";

} // namespace gyre::auth::test_keys
