"""govhub"""
