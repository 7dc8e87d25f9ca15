"""The stylist: reads the shopper (skin undertone, face shape, sizes) and suggests pieces by stated rules."""
