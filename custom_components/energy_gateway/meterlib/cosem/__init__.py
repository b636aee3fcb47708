"""COSEM pieces shared by the P1 and DLMS families: A-XDR encoding and general-glo-ciphering."""
