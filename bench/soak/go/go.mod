module goro/soak

go 1.19
