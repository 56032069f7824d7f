"""govhub/catalog"""
